# bad_options: option values and environment variables strata cannot use
# are refused before anything is opened (exit 2, naming the option, the
# value and what it takes), and nothing is created.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "--lock-wait takes whole seconds, 0 to 86400"
run v1 app migrate upgrade --lock-wait -1
run v1 app migrate upgrade --lock-wait 86401
run v1 app migrate upgrade --lock-wait abc
run v1 app migrate upgrade --lock-wait ''
run v1 app migrate upgrade --lock-wait 1.5
run v1 app migrate upgrade --lock-wait 0x10
run v1 app migrate upgrade --lock-wait 99999999999999999999
run v1 app migrate upgrade --lock-wait
note "--lock-lease takes 1 to 3600 seconds, --lock advisory or table"
run v1 app migrate upgrade --lock-lease 0
run v1 app migrate upgrade --lock-lease 3601
run v1 app migrate upgrade --lock bogus
run v1 app migrate upgrade --lock ''
note "--env and the environment variables"
run v1 app migrate status --env ''
run v1 app migrate status --env Production2
sh_ 'TESTAPP_ENVIRONMENT=bogus '"$bin"'/testapp_v1 app migrate status'
sh_ 'STRATA_ENV=" production" '"$bin"'/testapp_v1 app migrate status'
note "--dialect names a database strata knows"
run v1 app migrate upgrade --sql --dialect mysql
run v1 app migrate upgrade --sql --dialect ''
note "flags take no value, options need one"
run v1 app migrate status --json=1
run v1 app migrate upgrade --yes=no
run v1 app migrate status -x
run v1 app migrate status --database
run v1 app migrate status --database ''
note "nothing was created"
sh_ 'ls -A'
