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
// default charset, because messages carry emoji, and with the binary
// collation, so that ids and room codes compare exactly (WeChat openids are
// case-sensitive) as they do on SQLite.
func Migrate(ctx context.Context, db *gorm.DB, models ...any) error {
	tx := db.WithContext(ctx)
	if db.Dialector.Name() == DriverMySQL {
		tx = tx.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	if err := tx.AutoMigrate(models...); err != nil {
		return fmt.Errorf("db: migrate: %w", Classify(err))
	}
	return nil
}
