package framework

import (
	"log/slog"
	"time"
)

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
				log.Warn("request failed", "method", c.method, "conn", c.conn.id, "user", c.conn.ident.id(),
					"took", time.Since(c.start), "err", err)
			case log.Enabled(c.ctx, slog.LevelDebug):
				log.Debug("request", "method", c.method, "conn", c.conn.id, "user", c.conn.ident.id(), "took", time.Since(c.start))
			}
			return err
		}
	}
}
