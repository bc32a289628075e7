// Package service is the live module's logic below the controllers:
// Messages, the per-room pipeline that numbers, stores and pushes wall
// messages (seq strictly increasing, gap-free, cluster-wide, pushes in seq
// order on every node), and Draw, the lottery.
//
//	msgs := service.NewMessages(store, writer, service.Options{})
//	defer msgs.Close()
//	stored, err := msgs.Send(app, model.Message{Room: "r1", UserID: "u1",
//		UserType: "wechatUser", Nickname: "Ann", Content: "hello"})
//	// err == nil: stored.Seq, stored.Time; pushed to the room in seq order
//
//	winners := service.Draw(members, 3) // distinct wechatUsers
//
// Store keys (SeqKey, TurnKey, RoomKey) live under the store's prefix.
//
// Concurrency: Messages is safe for concurrent use; each room with
// messages waiting has one goroutine per node, which exits when the room is
// idle, and a room's turns are taken one node at a time through a lease in
// the store. Draw is a pure function.
package service
