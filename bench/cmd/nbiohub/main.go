// Command nbiohub is the comparison hub on github.com/lesismal/nbio: an
// epoll engine with a pool of goroutines, no goroutine per connection.
package main

import (
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"msgo/bench/peer"
)

type conn struct{ ws *websocket.Conn }

func (c conn) Write(frame []byte) error { return c.ws.WriteMessage(websocket.TextMessage, frame) }

func main() {
	f := peer.ParseFlags()
	room := peer.NewRoom()
	peer.ServeManager(f.Manager, room)
	up := websocket.NewUpgrader()
	up.CheckOrigin = func(*http.Request) bool { return true }
	up.OnMessage(func(ws *websocket.Conn, _ websocket.MessageType, msg []byte) { room.Handle(conn{ws}, msg) })
	up.OnClose(func(ws *websocket.Conn, _ error) { room.Leave(conn{ws}) })
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := up.Upgrade(w, r, nil); err != nil {
			return
		}
	})
	engine := nbhttp.NewEngine(nbhttp.Config{Network: "tcp", Addrs: []string{f.Addr}, Handler: mux, ReleaseWebsocketPayload: true})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	engine.Stop()
}
