package framework

import (
	"context"
	"fmt"

	"msgo/library/cache"
)

// During a reload both processes are subscribed to the node's bus channels
// for a moment; these make the message at which the old one stops applying
// and the new one starts exact (see cluster.Bus.Cut). With the memory store
// the bus is the process's own: nothing crosses, and there is nothing to cut.

// BusLive waits until the bus is subscribed, or ctx ends: the process
// taking over confirms it before the old one cuts.
func (s *Server) BusLive(ctx context.Context) error {
	select {
	case <-s.app.bus.Live():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("framework: bus not subscribed: %w", ctx.Err())
	}
}

// CutBus, in the process handing over, while frozen and before Export,
// marks the cut-over on each of the node's bus channels and returns its
// nonce once every cross-node push before the markers was applied (queued
// on the connections it reached); later ones wait for the new process. It
// returns "" with the memory store. ResumeBus undoes it.
func (s *Server) CutBus(ctx context.Context) (string, error) {
	if _, ok := s.app.store.(*cache.Memory); ok {
		return "", nil
	}
	nonce, err := s.app.bus.Cut(ctx)
	if err != nil {
		return "", fmt.Errorf("framework: %w", err)
	}
	// What the pushes scheduled (a detached session whose buffer overflowed
	// ends, a kicked connection runs its close hooks) runs here, before the
	// export sees the connections.
	if err := s.tr.Freeze(ctx); err != nil {
		s.ResumeBus()
		return "", fmt.Errorf("framework: %w", err)
	}
	return nonce, nil
}

// ResumeBus undoes CutBus when the reload failed: the pushes held since the
// markers are applied, in order.
func (s *Server) ResumeBus() { s.app.bus.Resume(s.ctx) }

// AwaitBus, in the process taking over (Options.TakingOver), returns once
// the markers of the cut nonce have arrived on every bus channel, or fails
// when ctx ends first. nonce "" needs nothing.
func (s *Server) AwaitBus(ctx context.Context, nonce string) error {
	if nonce == "" {
		return nil
	}
	if err := s.app.bus.Await(ctx, nonce); err != nil {
		return fmt.Errorf("framework: %w", err)
	}
	return nil
}

// ReleaseBus, in the process taking over, once it adopted the connections,
// applies the pushes its bus held past the cut nonce's markers, and every
// later one as it comes.
func (s *Server) ReleaseBus(nonce string) { s.app.bus.Release(s.ctx, nonce) }
