package framework

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"
)

// guard enforces what a route declared: who may call it and its own rate.
// The 403 rows of the protocol are data in the route table, not checks inside
// handlers.
func guard(rt *route, next Handler) Handler {
	if len(rt.Allow) == 0 && rt.Limit == 0 {
		return next
	}
	return func(c *Context) error {
		if len(rt.Allow) > 0 && !slices.Contains(rt.Allow, c.Client().Type()) {
			return Errorf(StatusForbidden, "%s may not call %s", c.Client().Type(), rt.Method)
		}
		if rt.Limit > 0 && !c.srv.routeAllow(c.conn, rt.index, rt.Limit) {
			c.srv.metrics.rateLimited()
			return Errorf(StatusTooMany, "over the rate limit of %s (%d/s)", rt.Method, rt.Limit)
		}
		return next(c)
	}
}

// Recoverer is middleware that turns a handler's panic into a 500 reply; the
// connection stays. The router puts it outermost on every route by itself.
func Recoverer(log *slog.Logger, next Handler) Handler {
	return func(c *Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				log.Error("handler panicked", "method", c.Method(), "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = Errorf(StatusInternal, "internal error")
			}
		}()
		return next(c)
	}
}

// AccessLog is middleware that logs each request at debug level (method,
// connection, user, duration) and each failed one at warn level. It costs a
// level check when debug logging is off: the duration is measured from the
// start the built-in metrics took. Tokens and parameters are never logged.
func AccessLog(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(c *Context) error {
			err := next(c)
			switch {
			case err != nil:
				log.Warn("request failed", "method", c.method, "conn", c.conn.ID(), "user", c.conn.Session().ident.id(),
					"took", time.Since(c.start), "err", err)
			case log.Enabled(c.ctx, slog.LevelDebug):
				log.Debug("request", "method", c.method, "conn", c.conn.ID(), "user", c.conn.Session().ident.id(), "took", time.Since(c.start))
			}
			return err
		}
	}
}
