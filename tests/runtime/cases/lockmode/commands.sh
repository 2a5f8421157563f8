# lockmode: PostgreSQL's kind of migration lock, from --lock or STRATA_LOCK.
# A value that is neither advisory nor table is a usage error (exit 2) that
# names the variable and the valid values, for every command that opens the
# database, before anything connects; --lock wins over the variable; an
# empty STRATA_LOCK reads as unset.
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it (PostgreSQL only).
sh_ 'STRATA_LOCK=tabel '"$bin"'/testapp_v1 app migrate upgrade'
q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'app_strata_%'"
sh_ 'STRATA_LOCK=TABLE '"$bin"'/testapp_v1 app migrate status'
sh_ 'STRATA_LOCK=tabel '"$bin"'/testapp_v1 start'
run v1 app migrate upgrade --lock tabel
sh_ 'STRATA_LOCK=tabel '"$bin"'/testapp_v1 app migrate upgrade --lock advisory'
sh_ 'STRATA_LOCK=table '"$bin"'/testapp_v1 app migrate status'
sh_ 'STRATA_LOCK= '"$bin"'/testapp_v1 app migrate status'
q "SELECT revision, state FROM app_strata_version ORDER BY revision"
