# checkpoint: a hand-written checkpoint (fixtures/cp_orig: v3 plus
# 005_cp.sql, which replaces aaaa00000001 and bbbb00000002) and the same
# bundle once the originals are deleted (fixtures/cp_gone). A new database
# runs the checkpoint; one part way through the originals goes on through
# them while they are in the bundle and is refused once they are not; one
# past the checkpoint's revision, either way, runs nothing of it again; a
# downgrade beneath a checkpoint the database ran is refused. One database,
# emptied between the stories (reset).
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
reset() {
    q "DROP TABLE items"
    q "DROP TABLE app_strata_version"
    q "DROP TABLE app_strata_log"
}
note "a new database: the checkpoint, then the rest"
run cp_orig app migrate upgrade
run cp_orig app migrate history --verbose
run cp_orig app migrate current
q "SELECT revision FROM app_strata_version ORDER BY revision"
q "SELECT name FROM items"
note "the originals deleted: nothing to do, the same current revision"
run cp_gone app migrate status
run cp_gone app migrate upgrade
run cp_gone app migrate current
if [ "$pg" = 0 ]; then
    note "the SQLite file of a database past the checkpoint is not written by either build"
    sh_ "a=\$(cksum <testapp-app.db); $bin/testapp_cp_gone app migrate upgrade --database $db >/dev/null; $bin/testapp_cp_orig app migrate upgrade --database $db >/dev/null; b=\$(cksum <testapp-app.db); [ \"\$a\" = \"\$b\" ] && echo unchanged"
fi
note "downgrades: beneath the checkpoint refused, down to its revision fine"
run cp_orig app migrate downgrade aaaa00000001
run cp_orig app migrate downgrade base
run cp_orig app migrate downgrade bbbb00000002
run cp_orig app migrate current
reset
note "part way: stopped at aaaa00000001, the originals still in the bundle"
run cp_orig app migrate upgrade aaaa00000001
run cp_orig app migrate status
note "once the originals are deleted the database part way is refused"
run cp_gone app migrate status
run cp_gone app migrate upgrade
q "SELECT revision FROM app_strata_version ORDER BY revision"
note "the build that still has them takes it past, then the new one has nothing to do"
run cp_orig app migrate upgrade
run cp_orig app migrate history --verbose
run cp_gone app migrate upgrade
run cp_gone app migrate status
run cp_gone app migrate current
run cp_gone app migrate history
note "through the originals, a downgrade undoes them while they are in the bundle"
run cp_orig app migrate downgrade aaaa00000001
run cp_orig app migrate current
reset
note "a new database from the build without the originals"
run cp_gone app migrate upgrade
q "SELECT revision FROM app_strata_version ORDER BY revision"
note "offline scripts: a new database gets the checkpoint, one at aaaa00000001 the originals"
sh_ "$bin/testapp_cp_orig app migrate upgrade --sql --database $db | grep -E '^-- Running|^(CREATE TABLE|ALTER TABLE) items'"
sh_ "$bin/testapp_cp_orig app migrate upgrade --sql aaaa00000001:head --database $db | grep -E '^-- Running|^(CREATE TABLE|ALTER TABLE) items'"
reset
note "stamping a new database at the checkpoint's revision records the checkpoint, not what it replaces"
run cp_orig app migrate stamp bbbb00000002
q "SELECT revision FROM app_strata_version ORDER BY revision"
run cp_orig app migrate current
