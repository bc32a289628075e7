//go:build !linux

package cachetest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
