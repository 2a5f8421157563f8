# ahead: an older binary (v1) on a database migrated by v3 (revisions it does
# not know): development and production run, --env test and TESTAPP_STRICT=1
# exit 8.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v3 app migrate upgrade
note "an older binary (v1) against a database migrated by v3"
run v1 app migrate status
run v1 app migrate current
run v1 start
sh_ "$bin/testapp_v1 app migrate status --env test --database $db"
sh_ 'STRATA_ENV=production DATABASE_URL='"$db $bin"'/testapp_v1 start'
sh_ 'STRATA_ENV=production TESTAPP_STRICT=1 DATABASE_URL='"$db $bin"'/testapp_v1 start'
