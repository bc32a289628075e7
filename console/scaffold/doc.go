// Package scaffold generates msgo modules and controllers: `msgo make module
// NAME` and `msgo make controller MODULE NAME`. The output is plain Go that
// builds, passes vet and carries a test on framework/msgotest, and every
// module is wired into the one human-readable list, app/modules.go, so msgo
// never needs reflection to find a module.
//
//	p, err := scaffold.Find(".") // the directory holding go.mod, or above
//	if err != nil { ... }
//	res, err := p.Module("shop") // app/shop/ and a line in app/modules.go
//	res, err = p.Controller("shop", "cart") // app/shop/cart.go, a route in shop.Register
//	for _, f := range res.Created { fmt.Println("created", f) }
//
// Generated code is wired in at marker comments: `// msgo:modules` inside
// app.Register, `// msgo:routes` inside a generated module's Register. A
// file without its marker is left alone and the error says what line to add
// by hand. Nothing is ever overwritten: a name whose files exist is refused
// before anything is written, and a failure half-way removes what the call
// created.
//
// The templates are embedded (templates/*.tmpl). The module guide is the
// README's "Add a module in five minutes"; its Go blocks are compiled and its
// commands run by this package's tests.
//
// Concurrency: a Project holds only paths; its methods touch the file
// system and are not meant to run at the same time on one tree.
package scaffold
