package db_test

import (
	"testing"

	"gorm.io/gorm"

	"msgo/library/db"
	"msgo/library/db/dbtest"
)

// owned is a row keyed by a user id, like kefu's chat and live's messages.
type owned struct {
	ID     int64  `gorm:"primaryKey"`
	Owner  string `gorm:"type:varchar(64);not null;index"`
	Secret string `gorm:"type:text"`
}

// countOwnedBy counts the rows a query for owner finds.
func countOwnedBy(t *testing.T, gdb *gorm.DB, owner string) int64 {
	t.Helper()
	var n int64
	if err := gdb.Model(&owned{}).Where("owner = ?", owner).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Ids compare byte for byte: "victim " (or "victim\t") finds none of
// victim's rows, on a table Migrate creates and on one created the old way
// (utf8mb4_bin, which pads on MariaDB and MySQL) once Migrate has run, as
// `msgo migrate` and auto-migrate do.
func TestIDsMatchByteForByte(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		if gdb.Dialector.Name() == db.DriverMySQL {
			old := gdb.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
			if err := old.AutoMigrate(&owned{}); err != nil {
				t.Fatal(err)
			}
			if err := gdb.Create(&owned{Owner: "victim", Secret: "history"}).Error; err != nil {
				t.Fatal(err)
			}
			if n := countOwnedBy(t, gdb, "victim "); n != 1 {
				t.Fatalf("the old table found %d rows for %q: the test no longer shows padding", n, "victim ")
			}
		}
		for range 2 { // converting twice is a no-op
			if err := db.Migrate(t.Context(), gdb, &owned{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := gdb.Create(&owned{Owner: "victim", Secret: "history"}).Error; err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"victim ", "victim  ", "Victim", "victim\x00"} {
			if n := countOwnedBy(t, gdb, id); n != 0 {
				t.Errorf("%q found %d of victim's rows", id, n)
			}
		}
		if n := countOwnedBy(t, gdb, "victim"); n == 0 {
			t.Error("victim finds none of its own rows")
		}
	})
}
