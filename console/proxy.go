package main

import (
	"log/slog"
	"time"

	"gorm.io/gorm"

	"msgo/app"
	"msgo/config"
	"msgo/framework"
	"msgo/framework/proxy"
)

// models are every table msgo migrates: the modules' and the proxy's.
func models() []any { return append(app.Models(), proxy.Models()...) }

// newProxy builds the backend proxy when proxy.endpoint is set (nil
// otherwise). Its disconnect events live in Redis with the redis cache
// driver, so any node can deliver them and the one that purges a dead node
// reports its connections; in the database otherwise, so they survive a
// restart. A prefix that also matches a Go route is an error naming both.
func newProxy(cfg *config.Config, gdb *gorm.DB, routes []framework.Route, log *slog.Logger) (*proxy.Proxy, func(), error) {
	pc := cfg.Proxy
	if pc.Endpoint == "" {
		return nil, func() {}, nil
	}
	var events proxy.Events
	closeEvents := func() {}
	if cfg.Cache.Driver == "redis" {
		r := cfg.Cache.Redis
		re := proxy.NewRedisEvents(proxy.RedisOptions{Addr: r.Addr, Password: r.Password, DB: r.DB, Prefix: r.Prefix})
		events, closeEvents = re, func() { re.Close() }
	} else {
		events = proxy.NewSQLEvents(gdb)
	}
	p, err := proxy.New(proxy.Config{
		Endpoint:   pc.Endpoint,
		Token:      pc.Token,
		Timeout:    time.Duration(pc.Timeout) * time.Second,
		Methods:    pc.Methods,
		Connect:    pc.Connect,
		Disconnect: pc.Disconnect,
		Workers:    pc.Workers,
		Queue:      pc.Queue,
		Retention:  time.Duration(pc.DisconnectRetention) * time.Second,
		RetryMin:   time.Duration(pc.RetryMinMS) * time.Millisecond,
		RetryMax:   time.Duration(pc.RetryMax) * time.Second,
	}, proxy.Options{Node: cfg.NodeID, Events: events, Logger: log})
	if err == nil {
		err = p.CheckRoutes(routes)
	}
	if err != nil {
		closeEvents()
		return nil, nil, err
	}
	return p, closeEvents, nil
}

// backendOf is p as a framework.Backend, nil (not a typed nil) without one.
func backendOf(p *proxy.Proxy) framework.Backend {
	if p == nil {
		return nil
	}
	return p
}
