package main

import (
	"github.com/spf13/cobra"

	"github.com/tandem-sync/tandem/internal/trackers"
)

// newSandboxCmd groups the tracker emulators: one sub-command per tracker
// kind (internal/trackers).
func newSandboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run a tracker emulator on its own (for trying things, tests and benchmarks)",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	for _, k := range trackers.All() {
		cmd.AddCommand(k.SandboxCommand(serve))
	}
	return cmd
}
