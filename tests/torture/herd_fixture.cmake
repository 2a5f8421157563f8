# The herd's 50 migrations, written at configure time into DIR (only files
# whose text changed are rewritten, so a re-configure rebuilds nothing).
# One linear chain herd00000001 .. herd00000050, every step one that fails
# when it runs twice (plain CREATE TABLE, CREATE INDEX, ADD COLUMN) and:
#   01       CREATE TABLE herd_counter (n)
#   25       the one-shot INSERT INTO herd_counter: run twice, two rows
#   26       UPDATE herd_counter SET n = n + 1: run twice, n = 3
#   10 .. 50 (every tenth) transaction=none: CREATE INDEX CONCURRENTLY on
#            PostgreSQL, CREATE INDEX on SQLite, on the table before it
#   others   CREATE TABLE herd_t<k>; every third also inserts 3 rows, every
#            fourth also adds a column to the table before it
# The oracle (herd.sh) expects exactly this: 50 rows, one counter row, n = 2.
function(strata_herd_fixture dir)
  file(MAKE_DIRECTORY ${dir})
  foreach(k RANGE 1 50)
    math(EXPR prev "${k} - 1")
    string(LENGTH "${k}" len)
    math(EXPR pad "8 - ${len}")
    string(REPEAT "0" ${pad} zeros)
    set(rev "herd${zeros}${k}")
    string(LENGTH "${prev}" plen)
    math(EXPR ppad "8 - ${plen}")
    string(REPEAT "0" ${ppad} pzeros)
    set(parent "herd${pzeros}${prev}")
    math(EXPR tenth "${k} % 10")
    math(EXPR third "${k} % 3")
    math(EXPR fourth "${k} % 4")
    math(EXPR prev_tenth "${prev} % 10")
    set(header "-- strata: revision=${rev}")
    if(k GREATER 1)
      string(APPEND header " revises=${parent}")
    endif()
    string(APPEND header "\n")
    if(k EQUAL 1)
      string(APPEND header "-- strata: message=\"the counter\"\n")
      string(CONCAT body "-- strata: up\nCREATE TABLE herd_counter (n INTEGER NOT NULL);\n\n"
               "-- strata: down\nDROP TABLE herd_counter;\n")
    elseif(k EQUAL 25)
      string(APPEND header "-- strata: message=\"the one-shot insert\"\n")
      string(CONCAT body "-- strata: up\nINSERT INTO herd_counter (n) VALUES (1);\n\n"
               "-- strata: down\nDELETE FROM herd_counter;\n")
    elseif(k EQUAL 26)
      string(APPEND header "-- strata: message=\"count once more\"\n")
      string(CONCAT body "-- strata: up\nUPDATE herd_counter SET n = n + 1;\n\n"
               "-- strata: down\nUPDATE herd_counter SET n = n - 1;\n")
    elseif(tenth EQUAL 0)
      string(APPEND header "-- strata: message=\"index ${k}, no transaction\"\n"
                           "-- strata: transaction=none\n")
      string(CONCAT body "-- strata: up dialect=postgresql\n"
               "CREATE INDEX CONCURRENTLY herd_i${k} ON herd_t${prev} (v);\n\n"
               "-- strata: up dialect=sqlite\nCREATE INDEX herd_i${k} ON herd_t${prev} (v);\n\n"
               "-- strata: down\nDROP INDEX herd_i${k};\n")
    else()
      string(APPEND header "-- strata: message=\"table ${k}\"\n")
      set(up "CREATE TABLE herd_t${k} (id INTEGER PRIMARY KEY, v TEXT NOT NULL DEFAULT 'v${k}');\n")
      set(down "DROP TABLE herd_t${k};\n")
      if(third EQUAL 0)
        string(APPEND up "INSERT INTO herd_t${k} (id) VALUES (1), (2), (3);\n")
      endif()
      # The table before it is a plain one: not 1, 25, 26 or a tenth.
      if(fourth EQUAL 0 AND NOT prev_tenth EQUAL 0 AND NOT prev EQUAL 25 AND NOT prev EQUAL 26
         AND prev GREATER 1)
        string(APPEND up "ALTER TABLE herd_t${prev} ADD COLUMN c${k} INTEGER;\n")
        set(down "ALTER TABLE herd_t${prev} DROP COLUMN c${k};\n${down}")
      endif()
      set(body "-- strata: up\n${up}\n-- strata: down\n${down}")
    endif()
    file(CONFIGURE OUTPUT ${dir}/${rev}.sql CONTENT "${header}\n${body}" @ONLY)
  endforeach()
endfunction()
