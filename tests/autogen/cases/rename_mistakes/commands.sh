# Without a hint, a column gone and another added is not taken for a rename:
# refused, with the hint to write.
create "name becomes title"
note "a hint that names nothing is an error"
sh_ "sed -i 's/title VARCHAR(50),/title VARCHAR(50), -- strata: renamed-from nmae/' migrations/schema.sql"
create "name becomes title"
note "a hint where no column or table is defined is an error"
sh_ "sed -i 's/ -- strata: renamed-from nmae//; s/(title);/(title); -- strata: renamed-from name/' migrations/schema.sql"
create "name becomes title"
note "dropping name on purpose loses its data: --allow-destructive"
sh_ "sed -i 's/ -- strata: renamed-from name//' migrations/schema.sql"
create "name becomes title" --allow-destructive
show
verify
again
