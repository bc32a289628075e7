package index_test

import (
	"encoding/json"
	"testing"

	"msgo/app/index"
	"msgo/framework"
	"msgo/framework/msgotest"
	"msgo/library/encrypt"
)

func TestEchoAndWhoami(t *testing.T) {
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}})
	cl := srv.Dial(t, framework.Identity{ID: "u1", Type: encrypt.TypeWechatUser, Code: "r1", Nickname: "小明"})

	r := cl.Request(t, "Index.Index.Index", map[string]any{"a": 1, "b": "x"})
	if r.Status != 200 || r.Info != "执行完成" || r.Event != "index.index.index" {
		t.Fatalf("echo reply: %+v", r)
	}
	var p map[string]any
	r.Decode(t, &p)
	if len(p) != 2 || p["a"] != float64(1) || p["b"] != "x" {
		t.Fatalf("echo param: %v", p)
	}

	r = cl.Request(t, "index.index.whoami", nil)
	var who map[string]string
	r.Decode(t, &who)
	want := map[string]string{"id": "u1", "type": "wechatUser", "code": "r1", "nickname": "小明"}
	if len(who) != len(want) {
		t.Fatalf("whoami: %v", who)
	}
	for k, v := range want {
		if who[k] != v {
			t.Fatalf("whoami %s = %q, want %q", k, who[k], v)
		}
	}
}

func TestStringIDEchoedAsString(t *testing.T) {
	srv := msgotest.Start(t, msgotest.Options{Modules: []msgotest.Module{index.Register}})
	cl := srv.Dial(t, framework.Identity{ID: "u1", Type: encrypt.TypeWall})
	cl.Write(t, []byte(`{"method":"index.index.index","id":"abc","k":[1,2]}`))
	r := cl.AwaitID(t, json.RawMessage(`"abc"`))
	if string(r.Param) != `{"k":[1,2]}` {
		t.Fatalf("param %s", r.Param)
	}
}
