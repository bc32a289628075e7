package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"msgo/console/scaffold"
)

// makeCmd is `msgo make`: scaffolding in the spirit of `php think
// make:controller`, generating code that builds and has its test.
func makeCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "make",
		Short: "Generate a module or a controller that builds, with its test",
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", ".", "a directory of the project (the one holding go.mod, or below it)")
	cmd.AddCommand(&cobra.Command{
		Use:   "module NAME",
		Short: "Generate app/NAME (a controller with one action, a close hook, Register, a test) and add it to app/modules.go",
		Args:  usage(1, "msgo make module NAME"),
		RunE: generate(&dir, func(p *scaffold.Project, args []string) (scaffold.Result, error) {
			return p.Module(args[0])
		}),
	}, &cobra.Command{
		Use:   "controller MODULE NAME",
		Short: "Generate app/MODULE/NAME.go with one action and its test, and register the route in the module",
		Args:  usage(2, "msgo make controller MODULE NAME"),
		RunE: generate(&dir, func(p *scaffold.Project, args []string) (scaffold.Result, error) {
			return p.Controller(args[0], args[1])
		}),
	})
	return cmd
}

// usage checks the number of arguments and answers a miss with the usage.
func usage(n int, line string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("usage: %s", line)
		}
		return nil
	}
}

// generate runs gen on the project around *dir and prints what it wrote,
// then the command that tests the module (args[0]).
func generate(dir *string, gen func(p *scaffold.Project, args []string) (scaffold.Result, error)) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		p, err := scaffold.Find(*dir)
		if err != nil {
			return err
		}
		res, err := gen(p, args)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		for _, f := range res.Created {
			fmt.Fprintln(w, "created", f)
		}
		for _, f := range res.Changed {
			fmt.Fprintln(w, "changed", f)
		}
		fmt.Fprintf(w, "next: go test ./%s/%s/\n", scaffold.AppDir, args[0])
		return nil
	}
}
