package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"msgo/console/bench"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "msgo:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	var configDir string
	root := &cobra.Command{
		Use:           "msgo",
		Short:         "msgo: a controller-routed realtime WebSocket framework",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&configDir, "config", "", "directory with app.yaml, db.yaml, cache.yaml (default: built-in defaults)")
	root.AddCommand(
		startCmd(&configDir),
		stopCmd(&configDir),
		reloadCmd(&configDir),
		statusCmd(&configDir),
		tokenCmd(&configDir),
		migrateCmd(&configDir),
		bench.Command(),
		makeCmd(),
	)
	return root
}
