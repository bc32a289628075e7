package framework

import (
	"log/slog"
	"time"
)

// AccessLog is middleware that logs each request at debug level (method,
// connection, user, duration) and each failed one at warn level. It costs a
// level check when debug logging is off. Tokens and parameters are never
// logged.
func AccessLog(log *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(c *Context) error {
			if !log.Enabled(c.ctx, slog.LevelWarn) {
				return next(c)
			}
			start := time.Now()
			err := next(c)
			switch {
			case err != nil:
				log.Warn("request failed", "method", c.method, "conn", c.conn.id, "user", c.conn.ident.id(),
					"took", time.Since(start), "err", err)
			case log.Enabled(c.ctx, slog.LevelDebug):
				log.Debug("request", "method", c.method, "conn", c.conn.id, "user", c.conn.ident.id(), "took", time.Since(start))
			}
			return err
		}
	}
}
