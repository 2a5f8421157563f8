# The same schema spelled differently is no change: nothing is written.
note "verify agrees: the migrations reach schema.sql as it is spelled"
verify
create "nothing to do"
sh_ "ls migrations"
note "INT PRIMARY KEY is not SQLite's rowid: that is a change there"
sh_ "sed -i 's/ID INTEGER primary key/ID int primary key/' migrations/schema.sql"
create "int key"
