# urls: which database wins: --database, APP_DATABASE_URL, DATABASE_URL, the
# default file; an unsupported URL scheme (exit 2).
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate init
sh_ 'DATABASE_URL=sqlite:///generic.db '"$bin"'/testapp_v1 app migrate init'
sh_ 'DATABASE_URL=sqlite:///generic.db APP_DATABASE_URL=sqlite:///module.db '"$bin"'/testapp_v1 app migrate init'
sh_ 'DATABASE_URL=sqlite:///generic.db APP_DATABASE_URL=sqlite:///module.db '"$bin"'/testapp_v1 app migrate init --database sqlite:///flag.db'
sh_ "$bin/testapp_v1 app migrate init --database sqlite:///$work/abs.db | sed 's|$work|<tmp>|'"
sh_ 'ls'
run v1 app migrate status --database mysql://localhost/x
