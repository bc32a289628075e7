<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** 404: no such call. */
class NotFound extends ClientError
{
    public const STATUS = 404;
}
