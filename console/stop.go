package main

import (
	"fmt"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func stopCmd(configDir *string) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the running msgo gracefully (clients get 1001) and wait for it to exit",
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, pid, err := running(*configDir)
			if err != nil {
				return err
			}
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				return fmt.Errorf("signal pid %d: %w", pid, err)
			}
			deadline := time.Now().Add(timeout)
			for alive(pid) {
				if time.Now().After(deadline) {
					return fmt.Errorf("pid %d still running after %s", pid, timeout)
				}
				time.Sleep(50 * time.Millisecond)
			}
			fmt.Printf("msgo (pid %d) stopped\n", pid)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait for the process to exit")
	return cmd
}
