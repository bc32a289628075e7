<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** A 5xx answer: msgo failed, or a dependency of it (Redis, the database) is unavailable. */
class ServerError extends MsgoException
{
    public const STATUS = 500;
}
