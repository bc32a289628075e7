package main

import (
	"strings"
	"testing"

	"msgo/framework"
	"msgo/framework/msgotest"
)

func TestReloadHandoffSmoke(t *testing.T) {
	in := newInstance(t)
	in.must("start", "-d")
	oldPid := in.pid()
	var cs []*msgotest.Client
	for i := range 20 {
		c, err := in.dial(framework.Identity{ID: "u" + string(rune('a'+i)), Type: framework.TypeWechatUser})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cs = append(cs, c)
	}
	out := in.must("reload")
	t.Log(out)
	if !strings.Contains(out, "20 connections handed over") || in.pid() == oldPid {
		t.Fatalf("reload: %s", out)
	}
	for _, c := range cs {
		if r := c.Request(t, "index.index.whoami", nil); r.Status != 200 {
			t.Fatalf("whoami after reload: %+v", r)
		}
	}
}
