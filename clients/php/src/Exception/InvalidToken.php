<?php
declare(strict_types=1);

namespace Msgo\Exception;

/**
 * A token that does not open: malformed, tampered, minted with another
 * secret, expired or from the future. msgo answers such a handshake 403, so
 * that is its status.
 */
class InvalidToken extends Forbidden
{
    public function __construct(string $message)
    {
        parent::__construct($message);
    }
}
