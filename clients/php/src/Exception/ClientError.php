<?php
declare(strict_types=1);

namespace Msgo\Exception;

/** A 4xx answer: the call was wrong (a bad parameter, a wrong token, an unknown path). */
class ClientError extends MsgoException
{
    public const STATUS = 400;
}
