<#
.SYNOPSIS
Installs podman-remote on Windows from a release .zip, after checking it against SHA256SUMS.

.DESCRIPTION
Nothing is changed unless the archive verified and unpacked: files are staged next to the
destination and then moved into place; a failure while moving puts the previous files back.

.EXAMPLE
.\install.ps1 -Archive .\podman-remote-0.1.0-windows-x86_64.zip
.\install.ps1 -Url https://example.com/releases/v0.1.0/ -LinkPodman
.\install.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    # A local podman-remote-<version>-windows-<arch>.zip.
    [string]$Archive = "",
    # A release directory (with SHA256SUMS) or the URL of one archive.
    [string]$Url = "",
    # The SHA256SUMS to check against (default: the one next to the archive).
    [string]$Sums = "",
    # The expected checksum, instead of a SHA256SUMS file.
    [string]$Sha256 = "",
    # Install directory (default: %LOCALAPPDATA%\Programs\podman-remote).
    [string]$Prefix = "",
    # Install for all users into %ProgramFiles%\podman-remote (needs an elevated shell).
    [switch]$System,
    # Also install podman.exe / docker.exe (copies of podman-remote.exe).
    [switch]$LinkPodman,
    [switch]$LinkDocker,
    # Do not add the PowerShell completion to the profile.
    [switch]$NoCompletions,
    # Do not add the install directory to PATH.
    [switch]$NoPath,
    # Replace files that another installation put there.
    [switch]$Force,
    # Remove what a previous run installed.
    [switch]$Uninstall
)

$ErrorActionPreference = "Stop"
Set-StrictMode -Version 3.0

$ManifestName = "install-manifest.txt"
$ProfileMarker = "# podman-remote completion (install.ps1)"

function Fail([string]$Message) {
    Write-Error "install.ps1: error: $Message" -ErrorAction Continue
    exit 1
}

function Say([string]$Message) {
    Write-Host "install.ps1: $Message"
}

if ($Prefix -and $System) { Fail "give either -Prefix or -System, not both" }
if ($System) {
    $Prefix = Join-Path $env:ProgramFiles "podman-remote"
    $PathScope = "Machine"
} else {
    if (-not $Prefix) { $Prefix = Join-Path $env:LOCALAPPDATA "Programs\podman-remote" }
    $PathScope = "User"
}
$Prefix = [System.IO.Path]::GetFullPath($Prefix)
$Manifest = Join-Path $Prefix $ManifestName

function Remove-FromPath([string]$Dir) {
    $current = [Environment]::GetEnvironmentVariable("Path", $PathScope)
    if (-not $current) { return }
    $kept = $current.Split(";") | Where-Object { $_ -and ($_.TrimEnd("\") -ne $Dir.TrimEnd("\")) }
    [Environment]::SetEnvironmentVariable("Path", ($kept -join ";"), $PathScope)
}

function Remove-ProfileCompletion {
    if (-not (Test-Path -LiteralPath $PROFILE)) { return }
    $lines = Get-Content -LiteralPath $PROFILE
    $kept = @($lines | Where-Object { $_ -notlike "*$ProfileMarker*" })
    if ($kept.Count -ne @($lines).Count) { Set-Content -LiteralPath $PROFILE -Value $kept }
}

# ------------------------------------------------------------------ uninstall
if ($Uninstall) {
    if (-not (Test-Path -LiteralPath $Manifest)) {
        Fail "no podman-remote installed by install.ps1 in $Prefix ($Manifest not found); give the -Prefix used to install"
    }
    foreach ($rel in Get-Content -LiteralPath $Manifest) {
        if (-not $rel -or $rel.Contains("..") -or [System.IO.Path]::IsPathRooted($rel)) { continue }
        $p = Join-Path $Prefix $rel
        if (Test-Path -LiteralPath $p) { Remove-Item -LiteralPath $p -Force }
    }
    Remove-Item -LiteralPath $Manifest -Force
    $completions = Join-Path $Prefix "completions"
    if ((Test-Path -LiteralPath $completions) -and -not (Get-ChildItem -LiteralPath $completions)) {
        Remove-Item -LiteralPath $completions
    }
    if (-not (Get-ChildItem -LiteralPath $Prefix)) { Remove-Item -LiteralPath $Prefix }
    Remove-FromPath $Prefix
    Remove-ProfileCompletion
    Say "removed podman-remote from $Prefix"
    exit 0
}

# ------------------------------------------------------------------ platform
switch ($env:PROCESSOR_ARCHITECTURE) {
    "AMD64" { $Arch = "x86_64" }
    "ARM64" { $Arch = "x86_64" } # Windows on ARM runs the x86_64 build under emulation.
    default { Fail "unsupported architecture $($env:PROCESSOR_ARCHITECTURE): releases exist for x86_64" }
}
$Suffix = "-windows-$Arch.zip"

$Work = Join-Path ([System.IO.Path]::GetTempPath()) ("podman-remote-install-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $Work | Out-Null
$Stage = $null
$CreatedPrefix = $false

function Get-Remote([string]$From, [string]$To) {
    try {
        Invoke-WebRequest -Uri $From -OutFile $To -UseBasicParsing
    } catch {
        Fail "downloading $From failed: $($_.Exception.Message)"
    }
}

try {
    # -------------------------------------------------------------- source
    if ($Url -and $Archive) { Fail "give either -Archive or -Url, not both" }
    if ($Url) {
        if ($Url.EndsWith(".zip")) {
            $Name = $Url.Substring($Url.LastIndexOf("/") + 1)
            $Base = $Url.Substring(0, $Url.LastIndexOf("/"))
        } else {
            $Base = $Url.TrimEnd("/")
            $Name = ""
        }
        if (-not $Sha256 -and -not $Sums) { $Sums = "$Base/SHA256SUMS" }
        if (-not $Name) {
            if (-not $Sums) { Fail "with -Sha256, give -Url the archive's own URL" }
            Get-Remote $Sums (Join-Path $Work "SHA256SUMS")
            $Sums = Join-Path $Work "SHA256SUMS"
            $Name = Get-Content -LiteralPath $Sums |
                ForEach-Object { ($_ -split "\s+")[1] } |
                Where-Object { $_ -and $_.TrimStart("*").StartsWith("podman-remote-") -and $_.EndsWith($Suffix) } |
                ForEach-Object { $_.TrimStart("*") } |
                Sort-Object | Select-Object -Last 1
            if (-not $Name) { Fail "the release at $Base has no archive for windows-$Arch" }
        }
        Say "downloading $Base/$Name"
        $Archive = Join-Path $Work $Name
        Get-Remote "$Base/$Name" $Archive
    } elseif (-not $Archive) {
        $found = Get-ChildItem -Path $PSScriptRoot -Filter "podman-remote-*$Suffix" -ErrorAction SilentlyContinue |
            Sort-Object Name | Select-Object -Last 1
        if (-not $found) { Fail "no archive given and no podman-remote-*$Suffix next to install.ps1: use -Archive FILE or -Url URL" }
        $Archive = $found.FullName
    }
    if (-not (Test-Path -LiteralPath $Archive -PathType Leaf)) { Fail "archive $Archive not found" }
    $Archive = (Resolve-Path -LiteralPath $Archive).Path
    $Name = Split-Path -Leaf $Archive
    if (-not ($Name.StartsWith("podman-remote-") -and $Name.EndsWith($Suffix))) {
        Fail "$Name is not a podman-remote release archive for this machine (expected podman-remote-<version>$Suffix)"
    }
    $Top = $Name.Substring(0, $Name.Length - 4)

    # -------------------------------------------------------------- verify
    if (-not $Sha256) {
        if (-not $Sums) {
            $Sums = Join-Path (Split-Path -Parent $Archive) "SHA256SUMS"
            if (-not (Test-Path -LiteralPath $Sums)) {
                Fail "no SHA256SUMS next to $Archive; give -Sums FILE or -Sha256 HEX (refusing to install an unverified archive)"
            }
        }
        if ($Sums -match "^[a-z]+://") {
            Get-Remote $Sums (Join-Path $Work "SHA256SUMS.remote")
            $Sums = Join-Path $Work "SHA256SUMS.remote"
        }
        foreach ($line in Get-Content -LiteralPath $Sums) {
            $fields = $line -split "\s+"
            if ($fields.Count -ge 2 -and $fields[1].TrimStart("*") -eq $Name) { $Sha256 = $fields[0]; break }
        }
        if (-not $Sha256) { Fail "$Sums has no checksum for $Name (refusing to install an unverified archive)" }
    }
    $actual = (Get-FileHash -LiteralPath $Archive -Algorithm SHA256).Hash.ToLowerInvariant()
    if ($actual -ne $Sha256.ToLowerInvariant()) {
        Fail "checksum mismatch for ${Name}: expected $($Sha256.ToLowerInvariant()), got $actual. The archive is corrupt or was tampered with; nothing was installed. Download it again."
    }
    Say "verified $Name (sha256 $actual)"

    # -------------------------------------------------------------- stage
    if (-not (Test-Path -LiteralPath $Prefix)) {
        New-Item -ItemType Directory -Path $Prefix | Out-Null
        $CreatedPrefix = $true
    }
    $Stage = Join-Path $Prefix (".stage-" + [guid]::NewGuid())
    try {
        Expand-Archive -LiteralPath $Archive -DestinationPath $Stage
    } catch {
        throw "unpacking $Name failed: $($_.Exception.Message)"
    }
    $Root = Join-Path $Stage $Top
    $Exe = Join-Path $Root "podman-remote.exe"
    if (-not (Test-Path -LiteralPath $Exe)) { throw "$Name does not contain $Top\podman-remote.exe" }
    $version = & $Exe --version 2>&1
    if ($LASTEXITCODE -ne 0) { throw "the unpacked podman-remote.exe does not run here: $version" }

    $files = [System.Collections.Generic.List[string]]::new()
    $files.Add("podman-remote.exe")
    $files.Add("completions\podman-remote.ps1")
    $files.Add("README.md")
    if ($LinkPodman) { Copy-Item -LiteralPath $Exe (Join-Path $Root "podman.exe"); $files.Add("podman.exe") }
    if ($LinkDocker) { Copy-Item -LiteralPath $Exe (Join-Path $Root "docker.exe"); $files.Add("docker.exe") }
    $files.Add($ManifestName)
    Set-Content -LiteralPath (Join-Path $Root $ManifestName) -Value $files

    $previous = @()
    if (Test-Path -LiteralPath $Manifest) { $previous = @(Get-Content -LiteralPath $Manifest) }
    foreach ($rel in $files) {
        $dest = Join-Path $Prefix $rel
        if ((Test-Path -LiteralPath $dest) -and ($previous -notcontains $rel) -and -not $Force) {
            throw "$dest exists and was not installed by install.ps1; remove it or use -Force"
        }
    }

    # -------------------------------------------------------------- install
    $old = Join-Path $Work "old"
    New-Item -ItemType Directory -Path $old | Out-Null
    $done = [System.Collections.Generic.List[string]]::new()
    try {
        foreach ($rel in $files) {
            $dest = Join-Path $Prefix $rel
            $parent = Split-Path -Parent $dest
            if (-not (Test-Path -LiteralPath $parent)) { New-Item -ItemType Directory -Path $parent | Out-Null }
            if (Test-Path -LiteralPath $dest) {
                $backup = Join-Path $old $rel
                New-Item -ItemType Directory -Force -Path (Split-Path -Parent $backup) | Out-Null
                # A running exe cannot be overwritten but can be renamed away.
                Move-Item -LiteralPath $dest -Destination $backup -Force
            }
            Move-Item -LiteralPath (Join-Path $Root $rel) -Destination $dest
            $done.Add($rel)
        }
    } catch {
        $reason = $_.Exception.Message
        for ($i = $done.Count - 1; $i -ge 0; $i--) {
            $rel = $done[$i]
            $dest = Join-Path $Prefix $rel
            Remove-Item -LiteralPath $dest -Force -ErrorAction SilentlyContinue
            $backup = Join-Path $old $rel
            if (Test-Path -LiteralPath $backup) { Move-Item -LiteralPath $backup -Destination $dest -Force }
        }
        throw "installing failed: $reason"
    }
    foreach ($rel in $previous) {
        if ($rel -and -not $rel.Contains("..") -and ($files -notcontains $rel)) {
            Remove-Item -LiteralPath (Join-Path $Prefix $rel) -Force -ErrorAction SilentlyContinue
        }
    }

    if (-not $NoPath) {
        $current = [Environment]::GetEnvironmentVariable("Path", $PathScope)
        $entries = @()
        if ($current) { $entries = $current.Split(";") | ForEach-Object { $_.TrimEnd("\") } }
        if ($entries -notcontains $Prefix.TrimEnd("\")) {
            $newPath = if ($current) { "$current;$Prefix" } else { $Prefix }
            [Environment]::SetEnvironmentVariable("Path", $newPath, $PathScope)
            Say "added $Prefix to the $PathScope PATH (open a new terminal)"
        }
    }
    if (-not $NoCompletions) {
        Remove-ProfileCompletion
        $profileDir = Split-Path -Parent $PROFILE
        if (-not (Test-Path -LiteralPath $profileDir)) { New-Item -ItemType Directory -Path $profileDir | Out-Null }
        $completion = Join-Path $Prefix "completions\podman-remote.ps1"
        Add-Content -LiteralPath $PROFILE -Value ". '$completion' $ProfileMarker"
        Say "PowerShell completion enabled in $PROFILE"
    }
    Say "installed $version into $Prefix"
} catch {
    $message = $_.Exception.Message
    if ($Stage -and (Test-Path -LiteralPath $Stage)) { Remove-Item -LiteralPath $Stage -Recurse -Force }
    if ($CreatedPrefix -and (Test-Path -LiteralPath $Prefix) -and -not (Get-ChildItem -LiteralPath $Prefix)) {
        Remove-Item -LiteralPath $Prefix
    }
    Fail "$message (nothing was installed)"
} finally {
    if ($Stage -and (Test-Path -LiteralPath $Stage)) { Remove-Item -LiteralPath $Stage -Recurse -Force }
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
}
