# redaction: database passwords never reach the output (no server is reached:
# port 1).
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
# The password must not appear in anything strata prints: checked on the
# output alone (the command lines below show it, the output must not).
leak=$work/leak.txt
: >"$leak"
pw() { eval "$@" >>"$leak" 2>&1; sh_ "$@"; }
pw 'DATABASE_URL=postgresql://alice:s3cret-pw@127.0.0.1:1/app '"$bin"'/testapp_v1 app migrate status'
pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 user=alice password=s3cret-pw dbname=app'"
pw 'STRATA_ENV=production DATABASE_URL=postgresql://alice:s3cret-pw@127.0.0.1:1/app?sslmode=disable '"$bin"'/testapp_v1 start'
pw 'DATABASE_URL=postgresql://alice:s3cret-pw@127.0.0.1:1/app '"$bin"'/testapp_v1 app migrate status --json'
note "URLs that libpq reads differently from a naive parser, or cannot parse at all"
pw 'DATABASE_URL="postgresql://alice:s3cret-pw?x@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql://alice:s3cret-pw%@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql://alice:s3cret-pw@[::1/app" '"$bin"'/testapp_v1 app migrate status'
pw "$bin/testapp_v1 app migrate status --database \"\$(printf 'host=127.0.0.1 port=1\tpassword=s3cret-pw dbname=app')\""
pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 password=abc\\ s3cret-pw dbname=app'"
pw 'DATABASE_URL="postgresql://alice:se/s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql://alice:p@s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql://alice@127.0.0.1:1/app?sslpassword=s3cret-pw&sslmode=disable" '"$bin"'/testapp_v1 app migrate status --json'
note "found by tests/fuzz/fuzz_url.c: '://' inside a key=value string; a password in the query too"
pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 password=s3cret-pw application_name=a://b:c@d dbname=app'"
pw 'DATABASE_URL="postgresql://alice:s3cret?pw@127.0.0.1:1/app?password=s3cret-pw2" '"$bin"'/testapp_v1 app migrate status'
note "the scheme in any case, blanks around the URL (a .env file, CRLF): PostgreSQL all the same"
pw 'DATABASE_URL=POSTGRESQL://alice:s3cret-pw@127.0.0.1:1/app '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL=Postgres://alice:s3cret-pw@127.0.0.1:1/app '"$bin"'/testapp_v1 app migrate status --json'
pw 'DATABASE_URL=" postgresql://alice:s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="$(printf "postgresql://alice:s3cret-pw@127.0.0.1:1/app\r")" '"$bin"'/testapp_v1 app migrate status'
note "a mistyped scheme, a missing one: refused, the password still hidden"
pw 'DATABASE_URL="postgres ://alice:s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql:/alice:s3cret-pw@127.0.0.1:1/app?sslmode=disable" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="alice:s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 app migrate status'
note "keys in any case or percent-encoded, values quoted or percent-encoded"
pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 user=alice PASSWORD=s3cret-pw dbname=app'"
pw 'DATABASE_URL="postgresql://alice@127.0.0.1:1/app?PASSWORD=s3cret-pw" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql://alice@127.0.0.1:1/app?pass%77ord=s3cret-pw" '"$bin"'/testapp_v1 app migrate status'
pw 'DATABASE_URL="postgresql://alice@127.0.0.1:1/app?sslmode=disable&password=s3cret%2Dpw" '"$bin"'/testapp_v1 app migrate status'
pw "$bin/testapp_v1 app migrate status --database \"host=127.0.0.1 port=1 password='s3cret pw' dbname=app\""
pw "$bin/testapp_v1 app migrate status --database 'host=127.0.0.1 port=1 password = \"s3cret pw\" dbname=app'"
note "the startup log"
pw 'STRATA_ENV=production DATABASE_URL=" POSTGRESQL://alice:s3cret-pw@127.0.0.1:1/app?sslmode=disable" '"$bin"'/testapp_v1 start'
pw 'STRATA_ENV=production DATABASE_URL="postgres ://alice:s3cret-pw@127.0.0.1:1/app" '"$bin"'/testapp_v1 start'
if grep -q s3cret "$leak"; then note "PASSWORD LEAKED"; else note "no password in any output"; fi
