#!/usr/bin/env bash
# lint.sh STRATA_BUNDLE VW_DIR: strata-bundle lint on vaultwarden's converted
# histories (VW_DIR holds vw_sqlite and vw_postgresql). Its findings are
# real, and pinned here:
#   PostgreSQL (the parse trees, no server): a dropped column
#   (ciphers.favorite, 2020-08-02) and three drops of sso_nonce (2024-02-14
#   and 2024-02-26 drop and create it again, 2025-08-20 replaces it), as
#   errors; 34 warnings (ALTER COLUMN ... TYPE on 28 columns, 26 of them in 2019-09-16,
#   a renamed column, SET NOT NULL, a primary key and a foreign key added
#   under a lock);
#   SQLite: the replay stops at the dangling foreign key of v20180427155151
#   (corpus.vaultwarden.verify), so lint sees the migrations before it only,
#   where it finds nothing.
set -u
sb=$1 dir=$2
fail=0
cd "$dir" || exit 1
want="2020-08-02-025025_add_favorites_table.sql:21:1 error [ban-drop-column]
2024-02-14-170000_add_state_to_sso_nonce.sql:6:1 error [ban-drop-table]
2024-02-26-170000_add_pkce_to_sso_nonce.sql:6:1 error [ban-drop-table]
2025-08-20-120000_sso_nonce_to_auth.sql:6:1 error [ban-drop-table]"
out=$("$sb" lint --dialect postgresql vw_postgresql 2>&1)
rc=$?
got=$(echo "$out" | grep ': error: ' | sed -e 's|^vw_postgresql/||' -e 's/: error: .*\[/ error [/')
nwarn=$(echo "$out" | grep -c ': warning: ')
if [[ $rc -ne 1 || $got != "$want" || $nwarn -ne 34 ]]; then
    echo "FAIL PostgreSQL: exit $rc, $nwarn warnings (want 1, 34)"
    diff <(echo "$want") <(echo "$got")
    fail=1
else
    echo "ok   PostgreSQL: 4 errors, 34 warnings, as pinned"
fi
want="vw_sqlite/2018-04-27-155151_create_users_ciphers.sql:6: error: table attachments row 1 references oldCiphers: the foreign key check before commit failed (foreign_keys=off) (SQLite replay, up)"
got=$("$sb" lint --dialect sqlite vw_sqlite 2>&1)
rc=$?
if [[ $rc -ne 1 || $got != "$want" ]]; then
    echo "FAIL SQLite: exit $rc"; diff <(echo "$want") <(echo "$got"); fail=1
else
    echo "ok   SQLite: the replay's dangling foreign key, nothing before it"
fi
# The JSON says the same, and which migrations production would ask about.
if command -v python3 >/dev/null; then
    "$sb" lint --dialect postgresql --format json vw_postgresql | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["errors"] == 4 and d["warnings"] == 34, (d["errors"], d["warnings"])
assert [x["revision"] for x in d["destructive"]] == ["v20200802025025", "v20240214170000", "v20240226170000", "v20250820120000"], d["destructive"]
' && echo "ok   JSON: 4 destructive migrations" || { echo "FAIL JSON"; fail=1; }
fi
exit $fail
