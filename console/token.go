package main

import (
	"fmt"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"msgo/library/encrypt"
)

// pages are the web pages `msgo token --open` prints a URL for.
var pages = map[string]string{
	"live-wall":     "/live/wall",
	"live-join":     "/live/join",
	"live-moderate": "/live/moderate",
	"kefu-agent":    "/kefu/agent",
	"kefu-chat":     "/kefu/chat",
}

func tokenCmd(configDir *string) *cobra.Command {
	var cl encrypt.Claims
	var ttl int
	var open string
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Mint an auth token; prints the token, then a ready ws:// URL (or a page URL with --open)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(*configDir, nil)
			if err != nil {
				return err
			}
			serverTTL := int(cfg.TokenTTL() / time.Second)
			if ttl < 0 || ttl > serverTTL {
				return fmt.Errorf("--ttl must be between 0 and auth.ttl (%d)", serverTTL)
			}
			cl.Ctime = time.Now().Unix()
			if ttl > 0 {
				// A token carries its issue time, not an expiry: it is valid while
				// now - ctime <= auth.ttl, so a shorter life is an earlier ctime.
				cl.Ctime -= int64(serverTTL - ttl)
			}
			tok, err := codec(cfg).Mint(cl)
			if err != nil {
				return err
			}
			fmt.Println(tok)
			host := loopbackHost(cfg.Outside.Listen)
			if open != "" {
				page, ok := pages[open]
				if !ok {
					return fmt.Errorf("--open: unknown page %q (live-wall, live-join, live-moderate, kefu-agent, kefu-chat)", open)
				}
				// The fragment never leaves the browser, so the token stays
				// out of proxy and server access logs; the pages read it.
				fmt.Printf("http://%s%s#auth=%s\n", host, page, url.QueryEscape(tok))
				return nil
			}
			path := "/ws"
			if len(cfg.Outside.Paths) > 0 {
				path = cfg.Outside.Paths[len(cfg.Outside.Paths)-1]
			}
			fmt.Printf("ws://%s%s?auth=%s\n", host, path, url.QueryEscape(tok))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cl.ID, "id", "", "user id (openid for WeChat users)")
	f.StringVar(&cl.Type, "type", "", "wechatUser, wall or kefu")
	f.StringVar(&cl.Code, "code", "", "room code")
	f.StringVar(&cl.Nickname, "nickname", "", "display name")
	f.IntVar(&ttl, "ttl", 0, "seconds the token stays valid (default: auth.ttl)")
	f.StringVar(&open, "open", "", "print a page URL instead of the ws:// URL: live-wall, live-join, live-moderate, kefu-agent, kefu-chat")
	cmd.MarkFlagRequired("id")
	cmd.MarkFlagRequired("type")
	return cmd
}
