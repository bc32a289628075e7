// Package modeltest fills the kefu tables with a large, realistic data set
// for benchmarks. Seeding a million rows takes a while, so the model's
// query benchmarks and the module's end-to-end ones share this one seeder.
//
//	func BenchmarkX(b *testing.B) {
//		modeltest.EachSeeded(b, func(b *testing.B, gdb *gorm.DB, s *model.Store, maxID int64) {
//			// modeltest.OpenID(i) for i < OpenIDs names a seeded conversation
//		})
//	}
//
// Concurrency: Seed writes with several goroutines of its own and returns
// when they are done; call it from the benchmark's goroutine.
package modeltest
