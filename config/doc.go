// Package config loads msgo's settings.
//
// Settings come from three layers, each overriding the one before: the
// defaults built into the binary (the app.yaml, db.yaml and cache.yaml beside
// this file, which document every key), the same files in a config directory,
// and environment variables named MSGO_ plus the key's YAML path joined by "_"
// and upper-cased (outside.max_frame_size is MSGO_OUTSIDE_MAX_FRAME_SIZE;
// lists are comma-separated). Load applies all three and validates the result;
// errors name the key both as YAML path and as environment variable.
//
// Example:
//
//	cfg, err := config.Load("config", os.LookupEnv)
//	if err != nil {
//		return err
//	}
//	if _, err := config.EnsureSecret(cfg); err != nil {
//		return err
//	}
//	config.EnsureNodeID(cfg)
//	codec := encrypt.New(cfg.Auth.Secret, cfg.TokenTTL())
//
// Concurrency: load and complete the Config once at start; after that it is
// read-only and may be shared by any number of goroutines.
package config
