// Package service is the live module's logic below the controllers:
// Messages, the per-room pipeline that numbers, stores and pushes wall
// messages (seq strictly increasing, gap-free, cluster-wide, pushes in seq
// order on every node), and Draw, the lottery.
//
//	msgs := service.NewMessages(store, writer, service.Options{})
//	defer msgs.Close()
//	msgs.Submit(app, model.Message{Room: "r1", UserID: "u1",
//		UserType: "wechatUser", Nickname: "Ann", Content: "hello"},
//		func(stored model.Message, err error) {
//			// err == nil: stored and pushed to the room in seq order;
//			// answer with stored.Seq, stored.Time
//		})
//
//	winners := service.Draw(members, 3) // distinct wechatUsers
//
// Store keys (SeqKey, TurnKey, RoomKey) live under the store's prefix.
//
// Concurrency: Messages is safe for concurrent use; Submit never blocks.
// Each room with messages waiting has one goroutine per node, which runs
// the turns and calls the done callbacks, and exits when the room is idle;
// a room's turns are taken one node at a time through a lease in the store.
// Draw is a pure function.
package service
