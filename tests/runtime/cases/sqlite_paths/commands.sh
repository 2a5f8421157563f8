# sqlite_paths: a SQLite path that cannot be a database is named as what it
# is: a directory, a file that is not a database, a file in a directory that
# does not exist (production status said "needs migration", exit 3). Nothing
# is created or changed.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
mkdir data
printf 'name,price\ndemo,1\n' > prices.csv
run v1 app migrate status --database sqlite:///data
run v1 app migrate upgrade --database sqlite:///data
run v1 app migrate status --database sqlite:///prices.csv
run v1 app migrate upgrade --database sqlite:///prices.csv
run v1 app migrate init --database sqlite:prices.csv
run v1 app migrate status --database sqlite:///nodir/app.db
run v1 app migrate upgrade --database sqlite:///nodir/app.db
sh_ 'STRATA_ENV=production APP_DATABASE_URL=sqlite:///nodir/app.db '"$bin"'/testapp_v1 app migrate status'
sh_ 'STRATA_ENV=production APP_DATABASE_URL=sqlite:///nodir/app.db '"$bin"'/testapp_v1 start'
note "nothing was created or changed"
sh_ 'ls -A . data && cat prices.csv'
