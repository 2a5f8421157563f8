#!/usr/bin/env bash
# verify.sh STRATA_BUNDLE VW_SQLITE_DIR: strata-bundle verify on vaultwarden's
# converted SQLite history finds the real bug it has (see CMakeLists.txt):
# v20180427155151 rebuilds ciphers by renaming it to oldCiphers first, so
# attachments' foreign key follows the rename and dangles once oldCiphers is
# dropped; with a row in attachments the foreign key check refuses it.
set -u
sb=$1 dir=$2
cd "$(dirname "$dir")" || exit 1
want="$(basename "$dir")/2018-04-27-155151_create_users_ciphers.sql:6: error: table attachments row 1 references oldCiphers: the foreign key check before commit failed (foreign_keys=off) (SQLite replay, up)"
got=$("$sb" verify --dialect sqlite "$(basename "$dir")" 2>&1)
rc=$?
if [[ $rc -ne 1 || $got != "$want" ]]; then
    echo "FAIL: exit $rc"; diff <(echo "$want") <(echo "$got"); exit 1
fi
echo "ok   the dangling foreign key of v20180427155151 is found"
