// Package app lists msgo's modules. It is the one place that knows them: the
// console calls Register once at start, and the route table is frozen after.
// `msgo make module NAME` adds a line here; the list stays readable by hand.
package app
