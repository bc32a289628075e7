<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** 400: a parameter is missing or wrong; the message names it. */
class BadRequest extends ClientError
{
    public const STATUS = 400;
}
