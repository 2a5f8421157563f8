# bad_files: SQLite databases strata cannot use: URLs without a path,
# things that are not database files (a FIFO, a device, a dangling link),
# damaged files (a header and garbage, a truncated copy), a directory where
# the journal goes. Each is refused with its exit status. (A database held
# by another connection: tests/runtime/sqlite_locked.sh.)
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "URLs without a usable path"
run v1 app migrate status --database sqlite://
run v1 app migrate status --database sqlite:///
run v1 app migrate status --database sqlite:
run v1 app migrate status --database file:app.db
run v1 app migrate upgrade --database sqlite:///data/
run v1 app migrate status --database "sqlite:///$(printf 'x%.0s' $(seq 300)).db"
note "not a regular file"
mkfifo pipe.db
run v1 app migrate status --database sqlite:///pipe.db
run v1 app migrate upgrade --database sqlite:////dev/null
ln -s nowhere/app.db dangling.db
run v1 app migrate status --database sqlite:///dangling.db
run v1 app migrate upgrade --database sqlite:///dangling.db
note "damaged files"
printf 'SQLite format 3\000garbage garbage garbage' > header.db
run v1 app migrate status --database sqlite:///header.db
run v1 app migrate upgrade --database sqlite:///header.db
sqlite3 full.db "CREATE TABLE t (x); INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) SELECT x FROM c"
head -c 8192 full.db > truncated.db
run v1 app migrate status --database sqlite:///truncated.db
run v1 app migrate upgrade --database sqlite:///truncated.db
: > empty.db
run v1 app migrate status --database sqlite:///empty.db
note "a directory where the rollback journal goes"
mkdir blocked.db-journal
run v1 app migrate upgrade --database sqlite:///blocked.db
note "what is left (the lock file is named after the database's inode)"
sh_ 'ls -A | sed "s/^strata-[0-9]*-/strata-INODE-/" | sort'
