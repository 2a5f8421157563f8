# section.awk -v want=up|down -v dialect=sqlite|postgresql FILE
#
# Prints the body of the section of a strata migration file that a
# database of `dialect` runs in direction `want`, as the runtime chooses it:
# "up dialect=sqlite" over a plain "up" (the same for down); exits 3 when
# there is none (irreversible there). Shared by the test scripts that apply
# migrations with the databases' own clients (sqlite3, psql).
/^--[ \t]*strata:/ {
    line = $0
    sub(/^--[ \t]*strata:[ \t]*/, "", line)
    n = split(line, w, /[ \t]+/)
    cur = ""
    if (w[1] == "up" || w[1] == "down") {
        d = "any"
        if (n >= 2 && w[2] ~ /^dialect=/) {
            d = substr(w[2], 9)
            if (d == "postgres") d = "postgresql"
        }
        cur = w[1] "/" d
        seen[cur] = 1
    }
    next
}
cur != "" { body[cur] = body[cur] $0 "\n" }
END {
    k = want "/" dialect
    if (!(k in seen)) k = want "/any"
    if (k in seen) { printf "%s", body[k]; exit 0 }
    exit 3
}
