# The Windows workflow's server: SQLite, Django's runserver (gunicorn, which
# `oxytrack serve` runs, needs fcntl: not on Windows), agency Nice, service
# Facturation, uploads every 10 s. Puts ENROLLMENT_KEY in $env:GITHUB_ENV.
# Needs OXYTRACK_VAR_DIR and SERVER (http://127.0.0.1:8000) in the environment.
$ErrorActionPreference = "Stop"
function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $Arguments failed (exit $LASTEXITCODE)" }
}
New-Item -ItemType Directory -Force $env:OXYTRACK_VAR_DIR | Out-Null
Invoke-Checked "python" @("-m", "venv", "srv")
Invoke-Checked "srv\Scripts\python.exe" @("-m", "pip", "install", "-q", "./agent", "./server")
Invoke-Checked "srv\Scripts\oxytrack.exe" @("migrate", "--noinput", "-v0")
# What `oxytrack serve` does before starting gunicorn; runserver does not.
Invoke-Checked "srv\Scripts\oxytrack.exe" @("collectstatic", "--noinput", "-v0")
Invoke-Checked "srv\Scripts\oxytrack.exe" @("agencies", "add", "Nice")
Invoke-Checked "srv\Scripts\oxytrack.exe" @("services", "add", "Facturation")
Invoke-Checked "srv\Scripts\python.exe" @("packaging\windows\ci_server.py", "prepare")
$key = (& srv\Scripts\oxytrack.exe enrollment_key).Trim()
Write-Output "::add-mask::$key"
"ENROLLMENT_KEY=$key" >> $env:GITHUB_ENV
Start-Process "$PWD\srv\Scripts\oxytrack.exe" -ArgumentList "runserver", "127.0.0.1:8000", "--noreload" `
    -RedirectStandardOutput server.log -RedirectStandardError server-errors.log
for ($i = 0; $i -lt 60; $i++) {
    try {
        Invoke-RestMethod "$env:SERVER/api/agent/v1/choices" -Headers @{ "X-Enrollment-Key" = $key }
        return
    } catch { Start-Sleep 1 }
}
throw "the server did not answer in 60 s"
