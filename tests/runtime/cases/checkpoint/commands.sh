# checkpoint: a hand-written checkpoint (fixtures/cp_orig: v3 plus
# 005_cp.sql, which replaces aaaa00000001 and bbbb00000002) and the same
# bundle once the originals are deleted (fixtures/cp_gone). A new database
# runs the checkpoint; one part way through the originals goes on through
# them while they are in the bundle and is refused once they are not; one
# past the checkpoint's revision, either way, runs nothing of it again.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
two=sqlite:///two.db
three=sqlite:///three.db
note "a new database: the checkpoint, then the rest"
run cp_orig app migrate upgrade
run cp_orig app migrate history --verbose
run cp_orig app migrate current
q "SELECT revision FROM app_strata_version ORDER BY revision"
q "SELECT name FROM items"
note "part way: stopped at aaaa00000001, the originals still in the bundle"
run cp_orig app migrate upgrade aaaa00000001 --database $two
run cp_orig app migrate status --database $two
note "once the originals are deleted the database part way is refused"
run cp_gone app migrate status --database $two
run cp_gone app migrate upgrade --database $two
run cp_gone app migrate current --database $two
note "the build that still has them takes it past, then the new one has nothing to do"
run cp_orig app migrate upgrade --database $two
run cp_orig app migrate history --verbose --database $two
run cp_gone app migrate upgrade --database $two
run cp_gone app migrate status --database $two
run cp_gone app migrate current --database $two
run cp_gone app migrate history --database $two
note "the database that ran the checkpoint, with the originals gone"
run cp_gone app migrate status
run cp_gone app migrate current
note "a new database from the build without originals"
run cp_gone app migrate upgrade --database $three
note "downgrades: beneath the checkpoint refused where it ran, through the originals where they ran"
run cp_orig app migrate downgrade aaaa00000001
run cp_orig app migrate downgrade bbbb00000002
run cp_orig app migrate current
run cp_orig app migrate downgrade aaaa00000001 --database $two
run cp_orig app migrate current --database $two
