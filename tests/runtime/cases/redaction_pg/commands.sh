# redaction_pg: a password in a PostgreSQL URL that works stays hidden in
# status, status --json, init and the startup log, whatever form the URL takes
# (the test server trusts every connection: libpq never sends the password).
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it (PostgreSQL only).
# $hp is the server's host:port/database, shown as <hp> (<port>, <db>).
hp=${db#*@}
host=${hp%%:*} port=${hp#*:} dbn=${hp#*/}
port=${port%%/*}
leak=$work/leak.txt
: >"$leak"
# shown COMMAND...: runs it, its output with the server's address normalised;
# the output (never the command line) goes to the leak check.
shown() {
  "$@" >"$work/out.txt" 2>&1
  local rc=$?
  cat "$work/out.txt" >>"$leak"
  sed "s|$hp|<hp>|g; s|port=$port|port=<port>|g; s|dbname=$dbn|dbname=<db>|g" "$work/out.txt"
  return $rc
}
note "the scheme in any case"
sh_ 'shown env DATABASE_URL="POSTGRESQL://postgres:s3cret-pw@$hp" '"$bin"'/testapp_v1 app migrate status'
sh_ 'shown env DATABASE_URL="POSTGRESQL://postgres:s3cret-pw@$hp" '"$bin"'/testapp_v1 app migrate status --json'
sh_ 'shown env DATABASE_URL="Postgres://postgres:s3cret-pw@$hp" '"$bin"'/testapp_v1 app migrate init'
note "the startup log, the URL from a .env file (a blank before it, CRLF after it)"
sh_ 'shown env STRATA_ENV=production DATABASE_URL=" POSTGRESQL://postgres:s3cret-pw@$hp$(printf "\r")" '"$bin"'/testapp_v1 start'
note "keys percent-encoded, values percent-encoded or quoted"
sh_ 'shown env DATABASE_URL="postgresql://postgres@$hp?pass%77ord=s3cret-pw" '"$bin"'/testapp_v1 app migrate status --json'
sh_ 'shown env DATABASE_URL="postgresql://postgres@$hp?sslmode=disable&password=s3cret%2Dpw" '"$bin"'/testapp_v1 app migrate status --json'
sh_ 'shown '"$bin"'/testapp_v1 app migrate status --json --database "host=$host port=$port dbname=$dbn user=postgres password='"'"'s3cret pw'"'"'"'
sh_ 'shown '"$bin"'/testapp_v1 app migrate status --database "host=$host port=$port dbname=$dbn user=postgres password = s3cret\\ pw"'
note "a key libpq does not know, in any case: refused, hidden all the same"
sh_ 'shown env DATABASE_URL="postgresql://postgres@$hp?PASSWORD=s3cret-pw" '"$bin"'/testapp_v1 app migrate status --json'
sh_ 'shown '"$bin"'/testapp_v1 app migrate status --database "host=$host port=$port dbname=$dbn user=postgres Password=s3cret-pw"'
if grep -q s3cret "$leak"; then note "PASSWORD LEAKED"; else note "no password in any output"; fi
