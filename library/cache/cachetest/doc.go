// Package cachetest gives other packages' tests a cache.Redis to run against:
// Redis and RedisNodes attach to the shared test Redis under a fresh key
// prefix, and StartRedis runs a private redis-server that a test may stop and
// restart to simulate an outage.
//
// Where no Redis is reachable the test is skipped, unless the environment
// variable CI is set, in which case it fails: CI must not pass by skipping.
package cachetest
