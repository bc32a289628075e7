package db

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// noPadCollations are the utf8mb4 collations that compare byte for byte with
// NO PAD: trailing spaces count, so the id "victim " is not "victim". The
// older utf8mb4_bin pads (it compares as if the shorter string ended in
// spaces), which let a token id with a trailing space read another user's
// rows. MariaDB has the first (10.2+), MySQL the second (8.0.17+).
var noPadCollations = []string{"utf8mb4_nopad_bin", "utf8mb4_0900_bin"}

// noPadCollation returns the first of noPadCollations the server knows.
func noPadCollation(tx *gorm.DB) (string, error) {
	var names []string
	err := tx.Raw("SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ?", noPadCollations).
		Scan(&names).Error
	if err != nil {
		return "", fmt.Errorf("db: find a NO PAD collation: %w", Classify(err))
	}
	for _, want := range noPadCollations {
		for _, n := range names {
			if n == want {
				return n, nil
			}
		}
	}
	return "", errors.New("db: the MySQL server has no NO PAD binary utf8mb4 collation (MariaDB 10.2+ or MySQL 8.0.17+ needed): ids would match with trailing spaces")
}

// convertCollation converts every table of models whose default or whose
// character columns use another collation than coll (a table created before
// msgo chose a NO PAD one). Converting can create no duplicate: NO PAD tells
// more strings apart, never fewer. The table is rebuilt, once.
func convertCollation(tx *gorm.DB, coll string, models ...any) error {
	for _, m := range models {
		stmt := &gorm.Statement{DB: tx}
		if err := stmt.Parse(m); err != nil {
			return fmt.Errorf("db: migrate: %w", err)
		}
		table := stmt.Schema.Table
		var stale int64
		err := tx.Raw(`SELECT (SELECT COUNT(*) FROM information_schema.TABLES
				WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND TABLE_COLLATION <> ?)
			+ (SELECT COUNT(*) FROM information_schema.COLUMNS
				WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLLATION_NAME IS NOT NULL AND COLLATION_NAME <> ?)`,
			table, coll, table, coll).Scan(&stale).Error
		if err != nil {
			return fmt.Errorf("db: migrate: collation of %s: %w", table, Classify(err))
		}
		if stale == 0 {
			continue
		}
		// Identifiers cannot be bound: table comes from the model's schema
		// and coll from noPadCollations.
		if err := tx.Exec("ALTER TABLE " + stmt.Quote(table) + " CONVERT TO CHARACTER SET utf8mb4 COLLATE " + coll).Error; err != nil {
			return fmt.Errorf("db: migrate: convert %s to %s: %w", table, coll, Classify(err))
		}
	}
	return nil
}
