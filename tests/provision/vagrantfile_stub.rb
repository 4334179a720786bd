# Loads vagrant/Vagrantfile with a stand-in for Vagrant's API and prints every setting it makes,
# one per line (`vm.box = "debian/bookworm64"`, `provider virtualbox: cpus = 2`, ...), so a test
# can check what the Vagrantfile asks for without Vagrant or a hypervisor.
#
# usage: ruby vagrantfile_stub.rb path/to/Vagrantfile
class Recorder
  def initialize(prefix)
    @prefix = prefix
  end

  def method_missing(name, *args, **kw, &block)
    key = "#{@prefix}#{name}"
    if name == :provider
      block.call(Recorder.new("provider #{args[0]}: "))
      puts "provider #{args[0]}"
    elsif name.to_s.end_with?("=")
      puts "#{key.chomp('=')} = #{args[0].inspect}"
    elsif args.empty? && kw.empty? && block.nil?
      Recorder.new("#{key}.")
    else
      puts "#{key}(#{(args.map(&:inspect) + kw.map { |k, v| "#{k}: #{v.inspect}" }).join(', ')})"
    end
  end

  def respond_to_missing?(*)
    true
  end
end

module Vagrant
  def self.require_version(*requirements)
    puts "require_version #{requirements.join(', ')}"
  end

  def self.configure(version)
    puts "configure #{version}"
    yield Recorder.new("")
  end
end

# Vagrant runs the Vagrantfile from its own directory, as `load` does here.
path = File.expand_path(ARGV.fetch(0))
Dir.chdir(File.dirname(path)) { load path }
