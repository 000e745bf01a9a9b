# Build the Windows agent in one command, from the repository's root:
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
#
# Gives dist\oxytrack-agent.exe (frozen, windowless) and dist\oxytrack-agent-<version>.msi,
# with their SHA-256 in dist\SHA256SUMS. Needs Python 3.11+ and WiX Toolset 3 (candle,
# light: installed with Chocolatey when missing). Signs both files when a certificate is
# given (see below); says so with a warning when not.
#
# Signing: SIGNING_CERT_BASE64 = the .pfx file in base64, SIGNING_CERT_PASSWORD = its
# password (GitHub secrets in .github/workflows/windows.yml), optional SIGNING_TIMESTAMP_URL.
#
# -CheckReproducible builds the exe a second time from scratch and stops if the two
# differ (before signing: a signature carries its own time).
# -MsiOnly -MsiVersion 0.1.1 packages the exe already built under another version
# (the workflow's upgrade test).
param(
    [string]$Python = "python",
    [string]$OutDir = "dist",
    [switch]$CheckReproducible,
    [switch]$MsiOnly,
    [string]$MsiVersion = ""
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root
$Build = Join-Path $Root "build\windows"
$Out = Join-Path $Root $OutDir
$Payload = Join-Path $Build "payload"
New-Item -ItemType Directory -Force $Build, $Out, $Payload | Out-Null

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe failed (exit $LASTEXITCODE)" }
}

# --- signing -------------------------------------------------------------------------
$Pfx = $null
if ($env:SIGNING_CERT_BASE64) {
    $Pfx = Join-Path $Build "signing.pfx"
    [IO.File]::WriteAllBytes($Pfx, [Convert]::FromBase64String($env:SIGNING_CERT_BASE64))
    $SignTool = (Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" |
        Sort-Object FullName | Select-Object -Last 1).FullName
    if (-not $SignTool) { throw "signtool.exe not found (Windows SDK)" }
} else {
    # A GitHub Actions annotation, and plain enough to read in a local console.
    Write-Host "::warning title=Unsigned build::No code-signing certificate (SIGNING_CERT_BASE64): oxytrack-agent.exe and the MSI are NOT signed. SmartScreen and AppLocker/WDAC policies may block them."
}
$TimestampUrl = if ($env:SIGNING_TIMESTAMP_URL) { $env:SIGNING_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }

function Sign-File([string]$Path) {
    if (-not $Pfx) { return }
    Invoke-Checked $SignTool @("sign", "/f", $Pfx, "/p", $env:SIGNING_CERT_PASSWORD,
        "/fd", "SHA256", "/tr", $TimestampUrl, "/td", "SHA256", "/d", "OxyTrack Agent", $Path)
    Invoke-Checked $SignTool @("verify", "/pa", $Path)
}

# --- the frozen exe ------------------------------------------------------------------
$Py = Join-Path $Build "venv\Scripts\python.exe"
if (-not $MsiOnly) {
    # A venv of its own, with pinned build tools: the same inputs give the same exe.
    if (-not (Test-Path $Py)) { Invoke-Checked $Python @("-m", "venv", (Join-Path $Build "venv")) }
    Invoke-Checked $Py @("-m", "pip", "install", "-q", "-r", "packaging\windows\requirements-build.txt")
    Invoke-Checked $Py @("-m", "pip", "install", "-q", ".\agent")

    # Reproducible: timestamps from the last commit, a fixed hash seed.
    $env:SOURCE_DATE_EPOCH = (git log -1 --format=%ct).Trim()
    $env:PYTHONHASHSEED = "0"
    function Build-Exe([string]$Dist) {
        Invoke-Checked $Py @("-m", "PyInstaller", "--noconfirm", "--clean",
            "--distpath", $Dist, "--workpath", "$Build\work", "packaging\windows\oxytrack-agent.spec")
    }
    Build-Exe "$Build\dist"
    if ($CheckReproducible) {
        Build-Exe "$Build\dist-again"
        $First = (Get-FileHash "$Build\dist\oxytrack-agent.exe").Hash
        $Second = (Get-FileHash "$Build\dist-again\oxytrack-agent.exe").Hash
        if ($First -ne $Second) { throw "two builds differ: $First vs $Second" }
        Write-Host "Reproducible: both builds are $First"
    }
    Copy-Item "$Build\dist\oxytrack-agent.exe" "$Payload\oxytrack-agent.exe" -Force
    Copy-Item "packaging\windows\oxytrack-agent.ico" "$Payload\oxytrack-agent.ico" -Force
    Sign-File "$Payload\oxytrack-agent.exe"
    Copy-Item "$Payload\oxytrack-agent.exe" "$Out\oxytrack-agent.exe" -Force
}
$Version = if ($MsiVersion) { $MsiVersion } else {
    (& $Py -c "import oxytrack_agent; print(oxytrack_agent.__version__)").Trim()
}

# --- MSI (WiX 3; the same source compiles with wixl in make test) --------------------
$CandlePath = (Get-Command candle.exe -ErrorAction SilentlyContinue).Source
if (-not $CandlePath -and $env:WIX -and (Test-Path (Join-Path $env:WIX "bin\candle.exe"))) {
    $CandlePath = Join-Path $env:WIX "bin\candle.exe"
}
if (-not $CandlePath) {
    Invoke-Checked "choco" @("install", "wixtoolset", "--version", "3.14.1", "-y", "--no-progress")
    $CandlePath = (Get-ChildItem "${env:ProgramFiles(x86)}\WiX Toolset v3.*\bin\candle.exe" |
        Select-Object -Last 1).FullName
}
$WixBin = Split-Path $CandlePath
$Msi = Join-Path $Out "oxytrack-agent-$Version.msi"
# A relative payload path, as wixl needs: both compilers run from the build folder.
Push-Location $Build
try {
    Invoke-Checked "$WixBin\candle.exe" @("-nologo", "-arch", "x64", "-dVersion=$Version",
        "-dPayloadDir=payload", "-out", "oxytrack-agent.wixobj", "$Root\packaging\windows\oxytrack-agent.wxs")
    Invoke-Checked "$WixBin\light.exe" @("-nologo", "-out", $Msi, "oxytrack-agent.wixobj")
} finally {
    Pop-Location
}
Sign-File $Msi
if ($Pfx) { Remove-Item $Pfx -Force }

Get-ChildItem $Out -File | Where-Object { $_.Extension -in ".exe", ".msi" } |
    Get-FileHash -Algorithm SHA256 |
    ForEach-Object { "$($_.Hash.ToLower())  $(Split-Path -Leaf $_.Path)" } |
    Set-Content -Encoding ascii "$Out\SHA256SUMS"
Write-Host "Built $Msi (version $Version)"
Get-Content "$Out\SHA256SUMS"
