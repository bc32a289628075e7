package db

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Migrate creates or extends the tables and indexes of models (gorm
// AutoMigrate: it adds what is missing and never drops columns or data).
// Modules pass their own models, e.g. db.Migrate(ctx, gdb, model.Models()...).
//
// MySQL tables are created InnoDB with utf8mb4, whatever the server's
// default charset, because messages carry emoji, and with a binary NO PAD
// collation, so that ids and room codes compare byte for byte (WeChat
// openids are case-sensitive, and "victim " is not "victim") as they do on
// SQLite. Tables created earlier with another collation are converted.
func Migrate(ctx context.Context, db *gorm.DB, models ...any) error {
	tx := db.WithContext(ctx)
	coll := ""
	if db.Dialector.Name() == DriverMySQL {
		var err error
		if coll, err = noPadCollation(tx); err != nil {
			return err
		}
		tx = tx.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE="+coll)
	}
	if err := tx.AutoMigrate(models...); err != nil {
		return fmt.Errorf("db: migrate: %w", Classify(err))
	}
	if coll != "" {
		return convertCollation(tx, coll, models...)
	}
	return nil
}
