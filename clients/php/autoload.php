<?php
// For installs without Composer (the package copied into a project):
// require this file and the Msgo\ classes load from src/ as Composer's
// PSR-4 autoloader would load them.
declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'Msgo\\', 5) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 5)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
