<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** 403: refused (for example a request carrying an Origin, or a token that does not open). */
class Forbidden extends ClientError
{
    public const STATUS = 403;
}
