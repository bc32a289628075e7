<?php
declare(strict_types=1);

namespace Msgo\Tests;

/**
 * Integration tests read where msgo and the sample backend run from the
 * environment; without it they are skipped (php_test.go sets everything and
 * runs PHPUnit with --fail-on-skipped, so under `make test` none is).
 */
trait NeedsEnv
{
    private function env(string $name): string
    {
        $v = getenv($name);
        if ($v === false || $v === '') {
            $this->markTestSkipped("$name is not set (run through clients/php/php_test.go)");
        }
        return $v;
    }

    /** A name no other test run uses, so runs against one msgo do not meet. */
    private static function unique(string $prefix): string
    {
        return $prefix . '-' . bin2hex(random_bytes(5));
    }
}
