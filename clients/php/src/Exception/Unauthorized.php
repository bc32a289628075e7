<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** 401: the bearer token is missing or wrong. */
class Unauthorized extends ClientError
{
    public const STATUS = 401;
}
