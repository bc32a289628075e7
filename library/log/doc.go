// Package log builds msgo's slog.Logger from the log section of the config:
// text or JSON lines, a minimum level, and standard error or a size-rotated
// file in the runtime directory.
//
// Example:
//
//	logger, closer, err := log.New(cfg.Log, cfg.RuntimeDir)
//	if err != nil {
//		return err
//	}
//	defer closer.Close()
//	logger.Info("listening", "addr", cfg.Outside.Listen)
//
// Never pass a token or a secret as a log attribute.
//
// Concurrency: the Logger is safe for concurrent use; call Close once, after
// the last log line.
package log
