package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"msgo/library/db"
)

func migrateCmd(configDir *string) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create or extend the database tables of every module",
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			cfg, err := loadConfig(*configDir, log)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			gdb, err := openDB(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer db.Close(gdb)
			if err := db.Migrate(ctx, gdb, models()...); err != nil {
				return err
			}
			fmt.Printf("migrated %d models on %s\n", len(models()), cfg.DB.Driver)
			return nil
		},
	}
}
