package service

// Store keys of the live module, under the store's own prefix. The room
// code is used verbatim: keys are not parsed back.

// SeqKey holds the room's last stored seq: the counter the next message's
// seq continues from.
func SeqKey(room string) string { return "live:seq:" + room }

// TurnKey is the room's turn lease: the node holding it stores and pushes
// the room's next run of messages.
func TurnKey(room string) string { return "live:turn:" + room }

// RoomKey is the close-key set of the room's member connections (node:fd),
// MSwoole's per-room fd list; the framework removes a connection from it
// when the connection closes.
func RoomKey(room string) string { return "live:room:" + room + ":conns" }
